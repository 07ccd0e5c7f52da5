import{s as r}from"../chunks/BszOdlvh.js";import{y as t}from"../chunks/BMn-jLjP.js";export{t as load_css,r as start};
