import{_ as m}from"../chunks/BHzQaEL3.js";export{m as component};
