import{_ as m}from"../chunks/BAKIwP7E.js";export{m as component};
