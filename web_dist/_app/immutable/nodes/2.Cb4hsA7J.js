import{_ as m}from"../chunks/AYfT-GYm.js";export{m as component};
