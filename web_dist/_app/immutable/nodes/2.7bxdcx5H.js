import{_ as m}from"../chunks/DYg1r8gu.js";export{m as component};
