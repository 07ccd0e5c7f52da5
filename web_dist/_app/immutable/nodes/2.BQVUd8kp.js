import{_ as m}from"../chunks/CxwYU7qU.js";export{m as component};
