import{_ as m}from"../chunks/CRpBJf6M.js";export{m as component};
