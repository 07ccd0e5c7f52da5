import{_ as m}from"../chunks/CDQ11sBv.js";export{m as component};
