import{_ as m}from"../chunks/CSpH59aA.js";export{m as component};
