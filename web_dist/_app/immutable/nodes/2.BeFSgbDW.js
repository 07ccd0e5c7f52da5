import{_ as m}from"../chunks/CL0N2N4E.js";export{m as component};
