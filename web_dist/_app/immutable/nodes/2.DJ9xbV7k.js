import{_ as m}from"../chunks/C5Wlw08E.js";export{m as component};
