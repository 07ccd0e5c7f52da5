import{_ as m}from"../chunks/CFNIrnDs.js";export{m as component};
