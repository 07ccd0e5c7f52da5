import{_ as m}from"../chunks/DTZM2Zwn.js";export{m as component};
