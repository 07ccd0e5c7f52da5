import{_ as m}from"../chunks/Bi-fxrGG.js";export{m as component};
