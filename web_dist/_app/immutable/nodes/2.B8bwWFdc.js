import{_ as m}from"../chunks/PaN7duNg.js";export{m as component};
