import{_ as m}from"../chunks/CK_i1Egf.js";export{m as component};
