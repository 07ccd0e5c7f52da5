import{s as r}from"../chunks/BpWo0Mtv.js";import{y as t}from"../chunks/C4RZQ-2f.js";export{t as load_css,r as start};
