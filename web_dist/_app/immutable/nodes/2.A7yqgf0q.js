import{_ as m}from"../chunks/Vsu1AyKb.js";export{m as component};
