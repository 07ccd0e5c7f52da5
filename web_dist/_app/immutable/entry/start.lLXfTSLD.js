import{s as r}from"../chunks/HChJpv8T.js";import{y as t}from"../chunks/BMNUQWdV.js";export{t as load_css,r as start};
