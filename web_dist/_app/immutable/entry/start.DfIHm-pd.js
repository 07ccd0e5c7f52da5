import{s as r}from"../chunks/Dn5BrNbz.js";import{y as t}from"../chunks/DmXuGboo.js";export{t as load_css,r as start};
