import{_ as m}from"../chunks/Dy6dd-fA.js";export{m as component};
