import{s as r}from"../chunks/DivSHElg.js";import{y as t}from"../chunks/wck7mPym.js";export{t as load_css,r as start};
