import{_ as m}from"../chunks/Ehk7aIF5.js";export{m as component};
