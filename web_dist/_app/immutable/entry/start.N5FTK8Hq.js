import{s as r}from"../chunks/CZmo3UdO.js";import{y as t}from"../chunks/B15ACish.js";export{t as load_css,r as start};
