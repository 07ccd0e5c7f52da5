import{_ as m}from"../chunks/IFWasCcs.js";export{m as component};
