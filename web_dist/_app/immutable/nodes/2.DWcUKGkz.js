import{_ as m}from"../chunks/DXT_r4Ff.js";export{m as component};
