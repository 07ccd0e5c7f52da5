import{_ as m}from"../chunks/BaBxmqPx.js";export{m as component};
