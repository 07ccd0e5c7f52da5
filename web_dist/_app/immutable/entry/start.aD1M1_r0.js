import{s as r}from"../chunks/DISSoDgq.js";import{y as t}from"../chunks/9LArMlRN.js";export{t as load_css,r as start};
