import{_ as m}from"../chunks/BNm5ELeb.js";export{m as component};
