import{_ as m}from"../chunks/juwOisTq.js";export{m as component};
