import{_ as m}from"../chunks/0eVEA-wF.js";export{m as component};
