import{_ as m}from"../chunks/DNDmRXG0.js";export{m as component};
