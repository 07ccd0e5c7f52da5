import{s as r}from"../chunks/DyMgkaBV.js";import{y as t}from"../chunks/DIQSw2T2.js";export{t as load_css,r as start};
