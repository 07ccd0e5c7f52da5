import{s as r}from"../chunks/-YcSDfuP.js";import{y as t}from"../chunks/DBY95tK9.js";export{t as load_css,r as start};
