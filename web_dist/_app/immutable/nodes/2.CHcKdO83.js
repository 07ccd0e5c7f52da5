import{_ as m}from"../chunks/o9-jZ1Tb.js";export{m as component};
