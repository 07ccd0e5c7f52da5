import{s as r}from"../chunks/jPSA-dCE.js";import{y as t}from"../chunks/BlHWY2uH.js";export{t as load_css,r as start};
