import{s as r}from"../chunks/DJN3ECgp.js";import{y as t}from"../chunks/D6LZRqmk.js";export{t as load_css,r as start};
