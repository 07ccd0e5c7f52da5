import{s as r}from"../chunks/CNUL0JXX.js";import{y as t}from"../chunks/CNG_Yx0J.js";export{t as load_css,r as start};
