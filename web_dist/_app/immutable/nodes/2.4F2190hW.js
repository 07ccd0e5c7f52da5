import{_ as m}from"../chunks/B9-WpbRO.js";export{m as component};
