import{_ as m}from"../chunks/Cr7PLX1m.js";export{m as component};
