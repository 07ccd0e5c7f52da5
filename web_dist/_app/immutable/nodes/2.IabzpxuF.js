import{_ as m}from"../chunks/CCAc1Lit.js";export{m as component};
