import{_ as m}from"../chunks/CDgmic4b.js";export{m as component};
