import{_ as m}from"../chunks/CSrWfddp.js";export{m as component};
