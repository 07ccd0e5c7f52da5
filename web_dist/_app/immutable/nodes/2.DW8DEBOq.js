import{_ as m}from"../chunks/BmHYL_R3.js";export{m as component};
