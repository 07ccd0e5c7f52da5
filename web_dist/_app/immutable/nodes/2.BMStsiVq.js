import{_ as m}from"../chunks/CWoU6PTC.js";export{m as component};
