import{_ as m}from"../chunks/DinrnKoK.js";export{m as component};
