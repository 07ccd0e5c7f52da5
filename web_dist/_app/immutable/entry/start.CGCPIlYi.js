import{s as r}from"../chunks/CAx-y0kf.js";import{y as t}from"../chunks/BT6UtuME.js";export{t as load_css,r as start};
