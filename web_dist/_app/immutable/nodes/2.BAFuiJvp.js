import{_ as m}from"../chunks/Csf2cYy_.js";export{m as component};
