import{s as r}from"../chunks/HPgC-Y0M.js";import{y as t}from"../chunks/CngIgcJj.js";export{t as load_css,r as start};
