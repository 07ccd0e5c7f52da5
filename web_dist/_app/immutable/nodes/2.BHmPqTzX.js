import{_ as m}from"../chunks/8VzjujAx.js";export{m as component};
