import{_ as m}from"../chunks/DrkbNzq8.js";export{m as component};
