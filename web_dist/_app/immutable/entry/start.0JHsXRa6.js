import{s as r}from"../chunks/6-3SATlr.js";import{y as t}from"../chunks/BpcnYnA2.js";export{t as load_css,r as start};
