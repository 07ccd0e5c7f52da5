import{s as r}from"../chunks/B8XMKQUK.js";import{y as t}from"../chunks/CufV8StI.js";export{t as load_css,r as start};
