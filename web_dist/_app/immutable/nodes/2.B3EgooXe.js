import{_ as m}from"../chunks/B4nq2Lxh.js";export{m as component};
