import{_ as m}from"../chunks/DmFmN-lX.js";export{m as component};
