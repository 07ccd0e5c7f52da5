import{_ as m}from"../chunks/C3Hh9vd5.js";export{m as component};
