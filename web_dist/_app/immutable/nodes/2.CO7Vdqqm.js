import{_ as m}from"../chunks/iNUDRzES.js";export{m as component};
